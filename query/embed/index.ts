/** The public surface of dashboard embed tokens: signing and verifying (issuing them is control/embed.ts). */
export { checkEmbedToken, embedTokenOf } from './verify.ts';
export { signEmbedToken, verifyEmbedToken, readEmbedClaims, frameAncestors, EMBED_TOKEN_PREFIX, type EmbedClaims, type EmbedFilter } from './token.ts';
export { scopeEmbedParams } from './scope.ts';
