import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain closing line CI reads ("N passed, N failed, N skipped") and names every
 * skipped test, so a suite skipped for want of a server is visible by name.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedNames: string[] = [];
    for (const mod of testModules) {
      // A suite whose hook failed leaves its tests unrun: they are failures, not skips.
      const brokenSuites = new Set([...mod.children.allSuites()].filter((s) => s.state() === 'failed'));
      const moduleBroken =
        mod.state() === 'failed' && [...mod.children.allTests()].every((t) => t.result().state !== 'failed');
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        let parent = test.parent;
        let inBrokenSuite = false;
        while (parent && parent.type === 'suite') {
          if (brokenSuites.has(parent)) inBrokenSuite = true;
          parent = parent.parent;
        }
        if (state === 'passed') passed++;
        else if (state === 'failed' || inBrokenSuite || moduleBroken) failed++;
        else {
          skipped++;
          skippedNames.push(`${mod.moduleId.replace(process.cwd() + '/', '')} > ${test.fullName}`);
        }
      }
    }
    if (skippedNames.length > 0) {
      console.log(`\nSkipped (${skippedNames.length}):`);
      for (const name of skippedNames) console.log(`  - ${name}`);
    }
    console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
