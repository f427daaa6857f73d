import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events/index.js';

/** Who hears an event on the in-process bus, and in which order. */
describe('EventBus delivery', () => {
  it('hands an event to every matching subscription in the order they were made', () => {
    const bus = new EventBus();
    const heard: string[] = [];
    bus.subscribe('st2.execution__*', (e) => heard.push(`wild ${e.name}`));
    bus.publish('st2.execution__update', {});
    bus.subscribe('st2.execution__update', (e) => heard.push(`exact ${e.name}`));
    bus.subscribe(/^st2\.(rule|execution)__/, (e) => heard.push(`regex ${e.name}`));
    bus.subscribe('st2.rule__create', () => heard.push('never'));
    bus.publish('st2.execution__update', { id: 'a' });
    bus.publish('st2.execution__create', { id: 'b' });
    expect(heard).toEqual([
      'wild st2.execution__update',
      'wild st2.execution__update',
      'exact st2.execution__update',
      'regex st2.execution__update',
      'wild st2.execution__create',
      'regex st2.execution__create',
    ]);
  });

  it('stops delivering to a subscription once unsubscribed, and only to that one', () => {
    const bus = new EventBus();
    const heard: string[] = [];
    const handler = () => heard.push('x');
    const first = bus.subscribe('a', handler);
    bus.subscribe('a', handler);
    bus.publish('a', {});
    first();
    first();
    bus.publish('a', {});
    expect(heard).toEqual(['x', 'x', 'x']);
  });

  it('delivers an event to the subscriptions there were when it started', () => {
    const bus = new EventBus();
    const heard: string[] = [];
    const later: { unsubscribe?: () => void } = {};
    bus.subscribe('a', () => {
      heard.push('first');
      later.unsubscribe?.();
      bus.subscribe('a', () => heard.push('added during delivery'));
    });
    later.unsubscribe = bus.subscribe('a', () => heard.push('removed during delivery'));
    bus.publish('a', {});
    expect(heard).toEqual(['first', 'removed during delivery']);
  });
});
