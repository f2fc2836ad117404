export const ROOT: string;
export function isPure(file: string, seen?: Set<string>): boolean;
export function pureTestFiles(): string[];
export function bundleForQuickjs(entry: string, outfile: string): Promise<string>;
export function shimSummary(output: string): { total: number; pass: number; complete: boolean; failures: string[] };
