/** The cross-process lock check shared by every store's tests. */
import { expect } from 'vitest';

/**
 * Writers in `lock` mode print one "start end" line (ms) per critical section: asserts there are
 * `expected` sections in all and that no two of them overlap.
 */
export function expectNoOverlappingSections(outputs: string[], expected: number): void {
  const spans = outputs.flatMap((o) =>
    o
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(Number) as [number, number]),
  );
  spans.sort((a, b) => a[0] - b[0]);
  expect(spans).toHaveLength(expected);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
}
