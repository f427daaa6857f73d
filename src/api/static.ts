import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';

/** Where `npm run build:web` writes the UI; the same from src/ (tsx) and dist/ (tsc output). */
export function defaultWebDist(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../web/dist'),
    path.resolve(here, '../../src/web/dist'),
    path.resolve(here, '../../../src/web/dist'),
  ];
  return candidates.find((c) => existsSync(path.join(c, 'index.html'))) ?? candidates[0];
}

export interface WebUiOptions {
  /** Folder with index.html and assets/ (default: src/web/dist). */
  dir?: string;
}

const API_PREFIXES = ['/api/', '/auth/', '/stream/'];

// The built UI runs no inline script; styles may be inline (React style props).
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/**
 * Serves the web UI at `/`: hashed assets with long caching, and index.html (never cached) for
 * any other GET that is not an API path, so deep links work. Mount it after the API routes and
 * before the 404 handler. Does nothing when the UI has not been built.
 */
export function mountWebUi(app: Express, options: WebUiOptions = {}): boolean {
  const dir = options.dir ?? defaultWebDist();
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) return false;
  app.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      fallthrough: true,
    }),
  );
  app.use(express.static(dir, { index: false, maxAge: 0 }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (API_PREFIXES.some((p) => req.path.startsWith(p)) || req.path.startsWith('/assets/')) return next();
    if (!req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.sendFile(index);
  });
  return true;
}
