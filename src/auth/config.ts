import path from 'node:path';
import type { SquallConfig } from '../config/index.js';

/** The auth, rbac and kv config sections, typed (config/load.ts types only the original keys). */
export interface AuthSettings {
  enable: boolean;
  token_ttl: number;
  service_token_ttl: number;
  admin_username: string;
  admin_password?: string;
  cookie_secure: boolean;
  login_throttle: LoginThrottleSettings;
}

export interface LoginThrottleSettings {
  window_seconds: number;
  max_failures_per_user: number;
  max_failures_per_address: number;
}

export interface RbacSettings {
  enable: boolean;
  permission_isolation: boolean;
  definitions_dir: string;
}

export interface KvSettings {
  encryption_key_path: string;
  purge_interval_ms: number;
}

type Loose = SquallConfig & {
  auth: Partial<AuthSettings>;
  rbac?: Partial<RbacSettings>;
  kv?: Partial<KvSettings>;
};

export function authSettings(config: SquallConfig): AuthSettings {
  const a = (config as Loose).auth ?? {};
  return {
    enable: a.enable ?? true,
    token_ttl: a.token_ttl ?? 86400,
    service_token_ttl: a.service_token_ttl ?? 86400,
    admin_username: a.admin_username ?? 'st2admin',
    admin_password: a.admin_password,
    cookie_secure: a.cookie_secure ?? false,
    login_throttle: {
      window_seconds: a.login_throttle?.window_seconds ?? 300,
      max_failures_per_user: a.login_throttle?.max_failures_per_user ?? 10,
      max_failures_per_address: a.login_throttle?.max_failures_per_address ?? 30,
    },
  };
}

export function rbacSettings(config: SquallConfig): RbacSettings {
  const r = (config as Loose).rbac ?? {};
  return {
    enable: r.enable ?? true,
    permission_isolation: r.permission_isolation ?? false,
    definitions_dir: path.resolve(config.data_dir, r.definitions_dir ?? 'rbac'),
  };
}

export function kvSettings(config: SquallConfig): KvSettings {
  const k = (config as Loose).kv ?? {};
  return {
    encryption_key_path: path.resolve(
      config.data_dir,
      k.encryption_key_path ?? path.join('keys', 'datastore.key'),
    ),
    purge_interval_ms: k.purge_interval_ms ?? 1000,
  };
}
