import { mkdirSync } from 'node:fs';
import { readFile, rm, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type mongoose from 'mongoose';
import { SquallError } from '../errors.js';
import type { Services } from '../service/index.js';

/** Marks the preview a record keeps in `result` when the whole result lives elsewhere. */
export const RESULT_REF_KEY = '__squall_result_ref';

export interface StoredResultRef {
  /** "file:<id>" (embedded) or "gridfs:<id>" (MongoDB). */
  ref: string;
  size: number;
}

export interface OffloadedResult {
  /** What the execution record keeps in `result`: a marker with a preview. */
  result: Record<string, unknown>;
  result_ref: string;
  result_size: number;
}

const BUCKET = 'execution_results';
type Db = mongoose.mongo.Db;
/**
 * The driver copy mongoose uses, so the bucket and the connection's Db come from one driver;
 * loaded only on the MongoDB store (the embedded store keeps results in files).
 */
async function gridfs(services: Services) {
  const { GridFSBucket, ObjectId } = (await import('mongoose')).default.mongo;
  const db = services.store.mongo!.db as unknown as Db;
  // 8 MB chunks: few documents per result, each well under FerretDB's and MongoDB's 16 MB.
  return { bucket: new GridFSBucket(db, { bucketName: BUCKET, chunkSizeBytes: 8 * 1024 * 1024 }), ObjectId };
}

function resultsDir(services: Services): string {
  return path.join(services.config.data_dir, 'results');
}

/**
 * Stores a result larger than `results.max_inline_bytes` outside the execution record (MongoDB
 * and FerretDB refuse documents over 16 MB; st2 fails there). Returns null when it fits inline.
 */
export async function offloadResult(
  services: Services,
  executionId: string,
  result: unknown,
): Promise<OffloadedResult | null> {
  if (result === undefined) return null;
  const json = JSON.stringify(result);
  const size = Buffer.byteLength(json);
  if (size <= services.config.results.max_inline_bytes) return null;
  const ref = await writeResult(services, executionId, json);
  const previewBytes = services.config.results.preview_bytes;
  return {
    result: {
      [RESULT_REF_KEY]: ref,
      size,
      truncated: true,
      preview: json.slice(0, previewBytes),
      note: `The result (${size} bytes) is stored apart; GET /api/v1/executions/${executionId}/result returns it whole.`,
    },
    result_ref: ref,
    result_size: size,
  };
}

async function writeResult(services: Services, executionId: string, json: string): Promise<string> {
  const { store } = services;
  try {
    if (store.kind === 'mongo') {
      const { bucket: b } = await gridfs(services);
      const id = await new Promise<string>((resolve, reject) => {
        const upload = b.openUploadStream(`${executionId}.json`, { metadata: { execution_id: executionId } });
        upload.once('error', reject);
        upload.once('finish', () => resolve(String(upload.id)));
        upload.end(Buffer.from(json));
      });
      return `gridfs:${id}`;
    }
    const dir = resultsDir(services);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${executionId}.json`);
    // Written whole then renamed, so a crash never leaves half a result behind a reference.
    await writeFile(`${file}.tmp`, json, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    return `file:${executionId}`;
  } catch (err) {
    throw new SquallError(
      'RESULT_STORE_FAILED',
      `could not store the ${Buffer.byteLength(json)}-byte result of execution ${executionId} outside its record: ${String(err)}`,
      { execution: executionId, store: store.kind },
    );
  }
}

/** The stored JSON text of an offloaded result. */
export async function readResultJson(services: Services, ref: string): Promise<string> {
  const [kind, id] = splitRef(ref);
  try {
    if (kind === 'gridfs') {
      const { bucket, ObjectId } = await gridfs(services);
      const chunks: Buffer[] = [];
      for await (const chunk of bucket.openDownloadStream(new ObjectId(id))) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path.join(resultsDir(services), `${id}.json`), 'utf8');
  } catch (err) {
    throw new SquallError('RESULT_UNREADABLE', `the stored result ${ref} cannot be read: ${String(err)}`, {
      ref,
    });
  }
}

/** Deletes an offloaded result (retention); a result already gone is not an error. */
export async function deleteResult(services: Services, ref: string): Promise<void> {
  const [kind, id] = splitRef(ref);
  if (kind === 'gridfs') {
    try {
      const { bucket, ObjectId } = await gridfs(services);
      await bucket.delete(new ObjectId(id));
    } catch (err) {
      if (!/FileNotFound|File not found/i.test(String(err))) throw err;
    }
    return;
  }
  await rm(path.join(resultsDir(services), `${id}.json`), { force: true });
}

/** The ref of a result preview (the `result` field of a record), or undefined for an inline result. */
export function resultRefOf(result: unknown): string | undefined {
  if (result && typeof result === 'object' && !Array.isArray(result)) {
    const ref = (result as Record<string, unknown>)[RESULT_REF_KEY];
    if (typeof ref === 'string') return ref;
  }
  return undefined;
}

function splitRef(ref: string): ['gridfs' | 'file', string] {
  const m = /^(gridfs|file):([A-Za-z0-9_-]+)$/.exec(ref);
  if (!m)
    throw new SquallError('RESULT_REF_INVALID', `"${ref}" is not a stored-result reference`, { ref }, 500);
  return [m[1] as 'gridfs' | 'file', m[2]];
}
