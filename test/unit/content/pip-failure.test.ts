import { describe, expect, it } from 'vitest';
import { pipFailure } from '../../../src/content/install.js';

/** pip's stderr, in the shapes pip 23–24 prints them (written for this test). */
describe('pipFailure: which requirement failed and why, from pip stderr', () => {
  it('a package that is not on the index', () => {
    const stderr = [
      'ERROR: Could not find a version that satisfies the requirement squall-nope==1.0 (from versions: none)',
      'ERROR: No matching distribution found for squall-nope==1.0',
    ].join('\n');
    expect(pipFailure(stderr)).toEqual({
      package: 'squall-nope==1.0',
      reason: expect.stringContaining('no matching distribution found'),
    });
  });

  it('a pinned package that fails to build (a C extension without its headers)', () => {
    const stderr = [
      '  error: subprocess-exited-with-error',
      '  × Building wheel for lxml (setup.py) did not run successfully.',
      '  │ exit code: 1',
      '  ╰─> [3 lines of output]',
      '      Error: Please make sure the libxml2 and libxslt development packages are installed.',
      '      [end of output]',
      '  note: This error originates from a subprocess, and is likely not a problem with pip.',
      '  ERROR: Failed building wheel for lxml',
      'ERROR: Could not build wheels for lxml, which is required to install pyproject.toml-based projects',
    ].join('\n');
    const failure = pipFailure(stderr);
    expect(failure.package).toBe('lxml');
    expect(failure.reason).toMatch(/^it failed to build: Error: Please make sure the libxml2/);
  });

  it('an old pin that no longer compiles against this Python: the first compiler error, and which Python', () => {
    const stderr = [
      '  error: subprocess-exited-with-error',
      '  × Building wheel for lxml (pyproject.toml) did not run successfully.',
      '  │ exit code: 1',
      '  ╰─> [6 lines of output]',
      '      copying src/lxml/includes/xmlerror.pxd -> build/lib.linux-x86_64-cpython-311/lxml/includes',
      "      src/lxml/etree.c:9:21: error: 'struct _err_stackitem' has no member named 'exc_type'",
      "      src/lxml/etree.c:12:19: error: 'struct _err_stackitem' has no member named 'exc_traceback'",
      "      error: command '/usr/bin/gcc' failed with exit code 1",
      '      [end of output]',
      '  ERROR: Failed building wheel for lxml',
      'ERROR: Could not build wheels for lxml, which is required to install pyproject.toml-based projects',
    ].join('\n');
    const failure = pipFailure(stderr);
    expect(failure.package).toBe('lxml');
    expect(failure.reason).toBe(
      "it failed to build: src/lxml/etree.c:9:21: error: 'struct _err_stackitem' has no member named 'exc_type'" +
        ' (compiled for CPython 3.11)',
    );
  });

  it('a package whose metadata step fails (setup.py egg_info)', () => {
    const stderr = [
      '  error: subprocess-exited-with-error',
      '  × python setup.py egg_info did not run successfully.',
      '  │ exit code: 1',
      '  ╰─> [2 lines of output]',
      '      Processing pykerberos',
      '      OSError: krb5-config: not found',
      'error: metadata-generation-failed',
    ].join('\n');
    const failure = pipFailure(`Collecting pykerberos\n${stderr}`);
    expect(failure.package).toBe('pykerberos');
    expect(failure.reason).toBe('it failed to build: OSError: krb5-config: not found');
  });

  it('a package that fails while pip collects it: stdout names it, stderr says why', () => {
    const stdout = [
      'Collecting six (from -r requirements.txt (line 1))',
      '  Using cached six-1.16.0-py2.py3-none-any.whl',
      'Collecting mysqlclient (from -r requirements.txt (line 2))',
      '  Downloading mysqlclient-2.2.4.tar.gz (90 kB)',
      '  Installing build dependencies: started',
      "  Getting requirements to build wheel: finished with status 'error'",
    ].join('\n');
    const stderr = [
      '  error: subprocess-exited-with-error',
      '  × Getting requirements to build wheel did not run successfully.',
      '  │ exit code: 1',
      '  ╰─> [3 lines of output]',
      '      Trying pkg-config --exists mysqlclient',
      '      Exception: Can not find valid pkg-config name.',
      '      [end of output]',
      '  note: This error originates from a subprocess, and is likely not a problem with pip.',
      'error: subprocess-exited-with-error',
    ].join('\n');
    expect(pipFailure(`${stdout}\n${stderr}`)).toEqual({
      package: 'mysqlclient',
      reason: 'it failed to build: Exception: Can not find valid pkg-config name.',
    });
  });

  it("a git+https requirement whose host cannot be reached: git says why, not pip's closing note", () => {
    const stdout = [
      'Collecting examplelib (from -r requirements.txt (line 1))',
      '  Cloning https://git.example.test/someone/examplelib.git to /tmp/pip-install-x/examplelib_1',
    ].join('\n');
    const clone =
      'git clone --filter=blob:none --quiet https://git.example.test/someone/examplelib.git /tmp/pip-install-x/examplelib_1';
    const stderr = [
      `  Running command ${clone}`,
      "  fatal: unable to access 'https://git.example.test/someone/examplelib.git/': Could not resolve host: git.example.test",
      '  error: subprocess-exited-with-error',
      `  × ${clone} did not run successfully.`,
      '  │ exit code: 128',
      '  ╰─> See above for output.',
      '  note: This error originates from a subprocess, and is likely not a problem with pip.',
      'error: subprocess-exited-with-error',
      `× ${clone} did not run successfully.`,
      '│ exit code: 128',
      '╰─> See above for output.',
      'note: This error originates from a subprocess, and is likely not a problem with pip.',
    ].join('\n');
    expect(pipFailure(`${stdout}\n${stderr}`)).toEqual({
      package: 'examplelib',
      reason:
        "git could not clone https://git.example.test/someone/examplelib.git: unable to access 'https://git.example.test/someone/examplelib.git/': Could not resolve host: git.example.test",
    });
  });

  it('an editable git requirement without a package name: the requirement, as requirements.txt has it', () => {
    const url = 'git+https://git.example.test/someone/examplelib@py3#egg=UNKNOWN';
    const clone =
      'git clone --filter=blob:none --quiet https://git.example.test/someone/examplelib /tmp/venv/src/unknown';
    const output = [
      `Obtaining UNKNOWN from ${url} (from -r requirements.txt (line 1))`,
      '  Cloning https://git.example.test/someone/examplelib (to revision py3) to /tmp/venv/src/unknown',
      `  Running command ${clone}`,
      "  fatal: unable to access 'https://git.example.test/someone/examplelib/': Could not resolve host: git.example.test",
      'error: subprocess-exited-with-error',
      `× ${clone} did not run successfully.`,
      '│ exit code: 128',
    ].join('\n');
    expect(pipFailure(output)).toEqual({
      package: url,
      reason:
        "git could not clone https://git.example.test/someone/examplelib: unable to access 'https://git.example.test/someone/examplelib/': Could not resolve host: git.example.test",
    });
  });

  it("a C extension that no longer compiles on this Python: the compiler's fatal error, not its command line", () => {
    const stderr = [
      '  error: subprocess-exited-with-error',
      '  × Building wheel for oldext (setup.py) did not run successfully.',
      '  │ exit code: 1',
      '  ╰─> [4 lines of output]',
      '      running build_ext',
      '      oldext/speedups.c:12:10: fatal error: longintrepr.h: No such file or directory',
      '      compilation terminated.',
      "      error: Command '['gcc', '-O3', '-c', 'oldext/speedups.c']' returned non-zero exit status 1.",
      '      [end of output]',
      '  ERROR: Failed building wheel for oldext',
    ].join('\n');
    expect(pipFailure(stderr)).toEqual({
      package: 'oldext',
      reason:
        'it failed to build: oldext/speedups.c:12:10: fatal error: longintrepr.h: No such file or directory',
    });
  });
  it("a metadata step whose traceback is all that is left of stderr: pip's closing error names the step", () => {
    const stdout = [
      'Collecting oldclient>=0.4 (from -r requirements.txt (line 1))',
      "  Preparing metadata (pyproject.toml): finished with status 'error'",
    ].join('\n');
    // The tail of a long traceback from the package's setup: the × line above it is gone.
    const stderr = [
      '        File "/tmp/build-env/lib/python3.11/site-packages/oldsemver/packaging.py", line 33, in <module>',
      '          import pkg_resources',
      "      ModuleNotFoundError: No module named 'pkg_resources'",
      '      [end of output]',
      '  note: This error originates from a subprocess, and is likely not a problem with pip.',
      'error: metadata-generation-failed',
      '× Encountered error while generating package metadata.',
      '╰─> See above for output.',
      'note: This is an issue with the package mentioned above, not pip.',
      'hint: See above for details.',
    ].join('\n');
    expect(pipFailure(`${stdout}\n${stderr}`)).toEqual({
      package: 'oldclient>=0.4',
      reason: "it failed to build: ModuleNotFoundError: No module named 'pkg_resources'",
    });
  });
});
