import { describe, expect, it } from 'vitest';
import { leafRegistry } from '../../../src/leaf-registry.js';
import { inquiryDriverFor } from '../../../src/inquiries/index.js';
import { workflowDriverFor } from '../../../src/workflows/engine/index.js';

interface Engine {
  apiUrl(): string;
  name: string;
}

const engine = (apiUrl: string, name: string): Engine => ({ apiUrl: () => apiUrl, name });

const registry = () => leafRegistry<Engine>('ENGINE_MISSING', 'test engine', 'testSubsystem');

describe('leafRegistry', () => {
  it('says what is missing and which subsystem provides it when nothing is registered', () => {
    const engines = registry();
    expect(() => engines.for({ apiUrl: 'http://a', executionId: 'e1' })).toThrow(
      expect.objectContaining({
        code: 'ENGINE_MISSING',
        message:
          "No test engine runs in this process for execution e1: add testSubsystem() to the service's subsystems",
        context: { execution: 'e1', apiUrl: 'http://a', engines: 0 },
      }),
    );
    expect(engines.at('http://a')).toBeUndefined();
  });

  it('serves each process its own, the newest for a URL, or the only one; unregistering takes it out', () => {
    const engines = registry();
    const offA = engines.register(engine('http://a', 'a1'));
    // The only one serves any URL (a runner context whose URL differs from the API's own).
    expect(engines.for({ apiUrl: 'http://elsewhere', executionId: 'e' }).name).toBe('a1');
    const offB = engines.register(engine('http://b', 'b'));
    const offA2 = engines.register(engine('http://a', 'a2'));
    expect(engines.at('http://a')?.name).toBe('a2');
    expect(engines.at('http://b')?.name).toBe('b');
    // Two registered and neither at this URL: none is guessed.
    expect(engines.at('http://elsewhere')).toBeUndefined();
    offA2();
    expect(engines.at('http://a')?.name).toBe('a1');
    offB();
    offA();
    offA();
    expect(() => engines.for({ apiUrl: 'http://a', executionId: 'e2' })).toThrow(/No test engine/);
  });

  it('names the missing workflow engine and inquiries service for a runner outside their process', () => {
    const ctx = { apiUrl: 'http://127.0.0.1:1/nowhere', executionId: 'e3' };
    expect(() => workflowDriverFor(ctx)).toThrow(
      expect.objectContaining({
        code: 'WORKFLOW_ENGINE_MISSING',
        message: expect.stringContaining(
          'No workflow engine runs in this process for execution e3: add workflowsSubsystem()',
        ),
      }),
    );
    expect(() => inquiryDriverFor(ctx)).toThrow(
      expect.objectContaining({
        code: 'INQUIRIES_MISSING',
        message: expect.stringContaining(
          'No inquiries service runs in this process for execution e3: add inquiriesSubsystem()',
        ),
      }),
    );
  });
});
