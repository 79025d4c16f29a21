/** The public surface of dashboard embed tokens (for the REST routes, the CLI and the tRPC admin API). */
export { issueEmbedToken, rotateEmbedSecret, EmbedAdminError, DEFAULT_EMBED_DAYS, MAX_EMBED_DAYS, type IssueEmbedTokenInput, type IssuedEmbedToken } from './issue.ts';
export { checkEmbedToken, embedTokenOf } from './verify.ts';
export { signEmbedToken, verifyEmbedToken, readEmbedClaims, frameAncestors, EMBED_TOKEN_PREFIX, type EmbedClaims, type EmbedFilter } from './token.ts';
export { scopeEmbedParams } from './scope.ts';
