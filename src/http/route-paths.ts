/**
 * Which route a request path names, as the router decides it: one trailing slash is the
 * same route ("/healthz/" is "/healthz"), two or more make another path. Auth, the rate
 * limit, the usage log, the metrics labels and the 405 answers all normalise a path here, so
 * they agree with the router on which route it is.
 */
const TURN_PATHS = new Set(["/v1/chat/completions", "/v1/completions", "/v1/responses"]);
const MODEL_PATH = /^\/v1\/models\/[^/]+$/;

/** The path without its one trailing slash. */
export const routePath = (path: string): string => (path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path);

/** The routes that run Codex turns (chat, completions, responses). */
export const isTurnPath = (path: string): boolean => TURN_PATHS.has(routePath(path));

/** One model's page, `/v1/models/{id}`. */
export const isModelPath = (path: string): boolean => MODEL_PATH.test(routePath(path));
