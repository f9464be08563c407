import { describe, expect, it } from 'vitest';
import { MessageRate } from '../../src/api/live/messageRate.js';

describe('MessageRate', () => {
  it('sends a burst at once, then one message per interval', () => {
    const rate = new MessageRate(25, 3);
    expect([rate.book('e', 1000), rate.book('e', 1000), rate.book('e', 1000), rate.book('e', 1000)]).toEqual([1000, 1000, 1000, 1025]);
  });

  it('makes the message after a slow write wait as long as that write took, for that execution only', () => {
    const rate = new MessageRate(25, 3);
    rate.book('e', 1000);
    rate.rest('e', 1080, 80);
    expect(rate.book('e', 1080)).toBe(1160);
    expect(rate.book('other', 1080)).toBe(1080);
  });

  it('takes no rest after a write under a millisecond', () => {
    const rate = new MessageRate(25, 3);
    rate.rest('e', 1000, 0.5);
    expect(rate.book('e', 1000)).toBe(1000);
  });
});
