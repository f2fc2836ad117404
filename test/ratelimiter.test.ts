import t from 'tap';
import { RateLimiter, RATELIMITER_IDLE_MS } from '../src/protocol/ratelimiter.js';

const v4 = (a: number, b: number, c: number, d: number) => Uint8Array.of(a, b, c, d);
function v6(high64: number[], low64: number[]): Uint8Array {
  return Uint8Array.from([...high64, ...low64]);
}

/** Sends `n` packets at `now` and returns how many were allowed. */
function burst(rl: RateLimiter, source: Uint8Array, now: number, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (rl.allow(source, now)) allowed++;
  return allowed;
}

t.test('burst of 5, then one packet per 50 ms (kernel selftest timings)', async (t) => {
  const rl = new RateLimiter();
  const src = v4(192, 0, 2, 1);
  let now = 1_000_000;
  let other = 0;
  // After every step a different source must still be allowed.
  const fresh = () => v4(10, 0, (other >> 8) & 255, other++ & 255);

  for (let i = 0; i < 5; i++) t.ok(rl.allow(src, now), `burst packet ${i + 1}`);
  t.ok(rl.allow(fresh(), now));
  t.notOk(rl.allow(src, now), '6th packet denied');
  t.ok(rl.allow(fresh(), now));

  now += 49;
  t.notOk(rl.allow(src, now), 'not yet refilled after 49 ms');
  now += 1;
  t.ok(rl.allow(src, now), 'one token after 50 ms');
  t.notOk(rl.allow(src, now), 'and only one');
  t.ok(rl.allow(fresh(), now));

  now += 100;
  t.equal(burst(rl, src, now, 5), 2, 'two tokens after 100 ms');
  t.ok(rl.allow(fresh(), now));
});

t.test('refill is capped at the burst size', async (t) => {
  const rl = new RateLimiter();
  const src = v4(198, 51, 100, 7);
  t.equal(burst(rl, src, 0, 10), 5);
  t.equal(burst(rl, src, 3_600_000, 10), 5, 'an hour idle still gives only 5');
  t.equal(burst(rl, src, 3_600_000 + 1000, 10), 5, 'one second refills the full burst');
  t.equal(burst(rl, src, 3_600_000 + 1000 + 150, 10), 3, '150 ms gives 3');
});

t.test('custom rate and burst with a non-divisor rate', async (t) => {
  const rl = new RateLimiter({ perSecond: 3, burst: 2 });
  const src = v4(203, 0, 113, 9);
  t.equal(burst(rl, src, 0, 5), 2, 'burst 2');
  t.notOk(rl.allow(src, 333), '333 ms < 1/3 s');
  t.ok(rl.allow(src, 334), '334 ms >= 1/3 s');
  t.notOk(rl.allow(src, 334));
});

t.test('sources are independent', async (t) => {
  const rl = new RateLimiter();
  const a = v4(192, 0, 2, 1);
  const b = v4(192, 0, 2, 2);
  t.equal(burst(rl, a, 0, 8), 5);
  t.equal(burst(rl, b, 0, 8), 5, 'neighbouring address has its own bucket');
  t.equal(rl.size, 2);
  t.notOk(rl.allow(Uint8Array.of(192, 0, 2), 0), 'a 3-byte source is refused');
  t.notOk(rl.allow(new Uint8Array(0), 0), 'an empty source is refused');
  t.equal(rl.size, 2, 'bad sources do not create entries');
});

t.test('IPv4 and IPv6 keys do not collide', async (t) => {
  const rl = new RateLimiter();
  t.equal(burst(rl, v4(0, 0, 0, 0), 0, 8), 5);
  t.equal(burst(rl, new Uint8Array(16), 0, 8), 5, ':: is not 0.0.0.0');
  t.equal(burst(rl, v4(255, 255, 255, 255), 0, 8), 5, 'high bit set in the int32 key');
});

t.test('IPv6 sources are grouped by /64', async (t) => {
  const rl = new RateLimiter();
  const prefix = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1];
  t.equal(burst(rl, v6(prefix, [0, 0, 0, 0, 0, 0, 0, 1]), 0, 3), 3);
  t.equal(burst(rl, v6(prefix, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 5), 2,
    'another address in the same /64 shares the bucket');
  t.notOk(rl.allow(v6(prefix, [1, 2, 3, 4, 5, 6, 7, 8]), 0));
  t.equal(rl.size, 1);

  t.equal(burst(rl, v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0, 1]), 0, 8), 5,
    'a different /64 (low half of the prefix differs) has its own bucket');
  t.equal(burst(rl, v6([0xa0, 0x01, 0x0d, 0xb8, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 1]), 0, 8), 5,
    'a different /64 (high bits differ) has its own bucket');
  t.equal(rl.size, 3);
});

t.test('gc drops sources idle for more than a second', async (t) => {
  const rl = new RateLimiter();
  const old4 = v4(192, 0, 2, 1);
  const old6 = v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 1]);
  const busy = v4(192, 0, 2, 2);
  burst(rl, old4, 0, 6);
  burst(rl, old6, 0, 6);
  burst(rl, busy, 0, 6);
  burst(rl, busy, 990, 6); // drains the bucket again
  t.equal(rl.size, 3);

  rl.gc(RATELIMITER_IDLE_MS);
  t.equal(rl.size, 3, 'exactly one second idle is kept');
  rl.gc(RATELIMITER_IDLE_MS + 1);
  t.equal(rl.size, 1, 'older entries (v4 and v6) are dropped, the busy one stays');
  t.notOk(rl.allow(busy, 1001), 'the surviving bucket kept its state');

  // A dropped source starts again with a full burst.
  t.equal(burst(rl, old4, 1001, 8), 5);
  t.equal(burst(rl, old6, 1001, 8), 5);
  rl.gc(100_000);
  t.equal(rl.size, 0, 'all dropped');
});

t.test('the table is capped; new sources are refused when full', async (t) => {
  const max = 300;
  const rl = new RateLimiter({ maxEntries: max });
  let refused = 0;
  for (let i = 0; i < max; i++) {
    const src = i % 2 === 0
      ? v4(10, 1, i >> 8, i & 255)
      : v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, i >> 8, i & 255], [0, 0, 0, 0, 0, 0, 0, 1]);
    if (!rl.allow(src, 0)) refused++;
  }
  t.equal(refused, 0, 'filling the table succeeds');
  t.equal(rl.size, max);
  t.notOk(rl.allow(v4(10, 2, 0, 0), 0), 'one more IPv4 source is refused');
  t.notOk(rl.allow(v6([0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1]), 0),
    'one more IPv6 /64 is refused');
  t.equal(rl.size, max);
  t.ok(rl.allow(v4(10, 1, 0, 0), 0), 'known sources keep working');
  t.ok(rl.allow(v6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1], [9, 9, 9, 9, 9, 9, 9, 9]), 0),
    'a known /64 keeps working');

  rl.gc(2000);
  t.equal(rl.size, 0);
  t.ok(rl.allow(v4(10, 2, 0, 0), 2000), 'room again after gc');
});

t.test('options are validated', async (t) => {
  t.throws(() => new RateLimiter({ perSecond: 0 }));
  t.throws(() => new RateLimiter({ burst: 1.5 }));
  t.throws(() => new RateLimiter({ maxEntries: -1 }));
});
