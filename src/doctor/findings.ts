/** What `ztoken doctor` reports: one finding per check (and per token where it concerns one). */
export type FindingLevel = 'error' | 'warning' | 'ok';

export interface Finding {
  check: string;
  level: FindingLevel;
  tokenId?: string;
  message: string;
  /** A command that fixes it. */
  fix?: string;
}

/** Errors make the run fail; warnings alone do not. */
export function findingsOk(findings: readonly Finding[]): boolean {
  return !findings.some((f) => f.level === 'error');
}
