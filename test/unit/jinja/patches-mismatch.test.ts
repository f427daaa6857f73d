import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/workflows/expressions/jinja/index.js';

// A nunjucks that writes its for loops' JavaScript differently (here `for (` with a space): the
// loop-scope patch no longer finds the line it rewrites, and every render says so instead of
// rendering loops with nunjucks' scoping. This file's process has its own nunjucks, changed before
// Squall's patches are installed (at the first render).
type CompilerThis = { _emitLine(code: string): void };
const compiler = (nunjucks as unknown as { compiler: { Compiler: { prototype: Record<string, unknown> } } })
  .compiler.Compiler.prototype;
const compileFor = compiler.compileFor as (this: CompilerThis, ...args: unknown[]) => void;
compiler.compileFor = function (this: CompilerThis, ...args: unknown[]): void {
  const emitLine = this._emitLine;
  this._emitLine = (code: string) => emitLine.call(this, code.replace(/^for\(/, 'for ('));
  try {
    compileFor.apply(this, args);
  } finally {
    this._emitLine = emitLine;
  }
};

describe('a nunjucks whose loop code changed', () => {
  it('fails every render with the name of the patch that no longer applies', () => {
    for (const template of ['{{ 1 }}', '{% for x in [1] %}{{ x }}{% endfor %}']) {
      expect(() => renderTemplate(template, {})).toThrow(
        "the Jinja patch 'loop scope' no longer applies to this nunjucks version: it did not find the `for(...) {` line nunjucks' compileFor emitted",
      );
    }
  });
});
