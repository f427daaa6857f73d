import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { writeTestPack } from '../../support/packs.js';
import { describeOnEachStore, freshMongoUrl, tempDir } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';

type Json = Record<string, any>;

/**
 * A pack config's secrets are masked in the API wherever the schema marks them, lists included:
 * st2's get_secret_parameters follows an array's `items`, so a pack keeping several devices'
 * credentials in a list (Exchange packs such as acos with `appliance: [{target, userid, passwd}]`,
 * email's `smtp_accounts`) had its passwords shown by GET /api/v1/configs/PACK here.
 */
describeOnEachStore('pack config secrets in the API', (target) => {
  const packs = tempDir();
  const configs = tempDir();
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(svc.url + url, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  beforeAll(async () => {
    writeTestPack(packs.dir, 'devices', {
      'config.schema.yaml': [
        'appliances:',
        '  type: array',
        '  items:',
        '    type: object',
        '    properties:',
        '      host: {type: string, required: true}',
        '      password: {type: string, secret: true, required: true}',
        'tokens:',
        '  type: array',
        '  items: {type: string, secret: true}',
        'service:',
        '  type: object',
        '  properties:',
        '    url: {type: string}',
        '    key: {type: string, secret: true}',
        '',
      ].join('\n'),
    });
    writeFileSync(
      path.join(configs.dir, 'devices.yaml'),
      yaml.dump({
        appliances: [
          { host: 'lb1.example.test', password: 'first-secret' },
          { host: 'lb2.example.test', password: 'second-secret' },
        ],
        tokens: ['token-one', 'token-two'],
        service: { url: 'https://svc.example.test', key: 'service-key' },
      }),
    );
    // foreman's and algosec's shape: named connections under patternProperties, each a $ref to a
    // top-level definition whose password is secret; and a map of tokens under additionalProperties.
    writeTestPack(packs.dir, 'conns', {
      'config.schema.yaml': [
        'foreman:',
        '  type: object',
        '  required: true',
        '  patternProperties:',
        '    "^\\\\w+":',
        '      $ref: "#/properties/connection"',
        '  additionalProperties: false',
        'connection:',
        '  type: object',
        '  properties:',
        '    server: {type: string, required: true}',
        '    password: {type: string, secret: true, required: true}',
        '  additionalProperties: false',
        'tokens:',
        '  type: object',
        '  additionalProperties: {type: string, secret: true}',
        '',
      ].join('\n'),
    });
    writeFileSync(
      path.join(configs.dir, 'conns.yaml'),
      yaml.dump({
        foreman: {
          prod: { server: 'prod.example.test', password: 'prod-secret' },
          lab: { server: 'lab.example.test', password: 'lab-secret' },
        },
        tokens: { github: 'gh-token' },
      }),
    );
    svc = await startTestService({
      subsystems: [testSecretsSubsystem(), contentSubsystem()],
      mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
      config: { 'auth.enable': false, 'packs.paths': [packs.dir], 'packs.config_dir': configs.dir },
    });
  });
  afterAll(async () => {
    await svc?.cleanup();
    packs.cleanup();
    configs.cleanup();
  });

  const masked = {
    appliances: [
      { host: 'lb1.example.test', password: '********' },
      { host: 'lb2.example.test', password: '********' },
    ],
    tokens: ['********', '********'],
    service: { url: 'https://svc.example.test', key: '********' },
  };

  it('masks each list element’s secret as well as a nested object’s, in one pack’s config and in the list', async () => {
    const one = await api('GET', '/api/v1/configs/devices');
    expect(one.status).toBe(200);
    expect(one.body.values).toEqual(masked);
    const all = await api('GET', '/api/v1/configs');
    expect(all.body.find((c: Json) => c.pack === 'devices').values).toEqual(masked);
    expect(JSON.stringify(all.body)).not.toMatch(/first-secret|second-secret|token-one|service-key/);
  });

  it('keeps the stored secrets when a config is written back with the masks it was shown', async () => {
    const shown = (await api('GET', '/api/v1/configs/devices')).body.values;
    shown.appliances[1].host = 'lb3.example.test';
    shown.appliances[0].password = 'changed-secret';
    const put = await api('PUT', '/api/v1/configs/devices', shown);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.values.appliances[1]).toEqual({ host: 'lb3.example.test', password: '********' });
    const written = yaml.load(readFileSync(path.join(configs.dir, 'devices.yaml'), 'utf8'));
    expect(written).toEqual({
      appliances: [
        { host: 'lb1.example.test', password: 'changed-secret' },
        { host: 'lb3.example.test', password: 'second-secret' },
      ],
      tokens: ['token-one', 'token-two'],
      service: { url: 'https://svc.example.test', key: 'service-key' },
    });
    const revealed = await api('GET', '/api/v1/configs/devices?show_secrets=true');
    expect(revealed.body.values.appliances[1].password).toBe('second-secret');
  });

  it('masks secrets under patternProperties (through a $ref) and additionalProperties, which st2 shows', async () => {
    const shown = await api('GET', '/api/v1/configs/conns');
    expect(shown.status).toBe(200);
    expect(shown.body.values).toEqual({
      foreman: {
        prod: { server: 'prod.example.test', password: '********' },
        lab: { server: 'lab.example.test', password: '********' },
      },
      tokens: { github: '********' },
    });
    const all = await api('GET', '/api/v1/configs');
    expect(JSON.stringify(all.body)).not.toMatch(/prod-secret|lab-secret|gh-token/);

    shown.body.values.foreman.lab.password = 'new-lab-secret';
    const put = await api('PUT', '/api/v1/configs/conns', shown.body.values);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(yaml.load(readFileSync(path.join(configs.dir, 'conns.yaml'), 'utf8'))).toEqual({
      foreman: {
        prod: { server: 'prod.example.test', password: 'prod-secret' },
        lab: { server: 'lab.example.test', password: 'new-lab-secret' },
      },
      tokens: { github: 'gh-token' },
    });
  });
});
