#!/usr/bin/env node
// Part of the build (after tsc): writes the validators of the built-in schemas that every
// `squall start` uses — the config's and the pack content kinds' — as ajv standalone code into
// dist/validators/, so a start loads them instead of compiling the schemas with ajv. Each file
// carries the hash of what it was made from; src/lazy-validator.ts compiles at run time instead
// when a file is missing or made for another schema.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src');
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);
const { writeBuiltValidators } = await load('lazy-validator.js');
// The modules that register built-in schemas (builtValidator) as they load.
await load('config/load.js');
await load('content/validate.js');
const names = await writeBuiltValidators();
process.stderr.write(`[squall] ${names.length} validators written to dist/validators\n`);
