/** Who is calling, as the API sees it: set on `req.auth` by `authenticate()`. */
export interface AuthContext {
  user: string;
  /** Effective roles: the user's stored roles plus file assignments (rbac/assignments/*.yaml). */
  roles: string[];
  /** How the caller proved who they are. */
  method: 'token' | 'api_key' | 'cookie' | 'execution_token' | 'anonymous';
  /** Set when the credential is an execution's temporary token. */
  executionId?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthContext;
  }
}
