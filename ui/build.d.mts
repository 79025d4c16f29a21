// Types of ui/build.mjs for the TypeScript modules that import it (UI routes, tests).
export interface UiEntry { name: string; entry: string; static: string | null; out: string; budgetKb: number; plugins?: string }
export interface UiBuildReport { name: string; bytes: number; gzipKb: number; budgetKb: number; withinBudget: boolean }
export const UIS: UiEntry[];
export function isStale(ui: UiEntry): boolean;
export function buildUi(ui: UiEntry, options?: { minify?: boolean }): Promise<UiBuildReport>;
export function ensureUiBuilt(options?: { force?: boolean; log?: (message: string) => void }): Promise<UiBuildReport[]>;
