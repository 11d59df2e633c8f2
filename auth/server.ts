/**
 * Entry of the ForwardAuth sidecar (`dist/codex-forward-auth`): reads its config, serves
 * /verify and /healthz, and stops on SIGTERM/SIGINT. Same flags as the proxy.
 */
import { probeUrl, runEntry } from "../src/cli.ts";
import { unhandledErrorResponder } from "../src/http/error-response.ts";
import { createLogger } from "../src/logger.ts";
import { runtime } from "../src/runtime/index.ts";
import { AuthEnvSchema, loadAuthConfig } from "./config.ts";
import { forwardAuthHandler } from "./forward-auth.ts";

export interface RunningSidecar {
  port: number;
  stop(): Promise<void>;
}

export function startForwardAuth(env = runtime.env()): RunningSidecar {
  const config = loadAuthConfig(env);
  const logger = createLogger(config.logLevel).child({ component: "forward-auth" });
  const handler = forwardAuthHandler({
    config,
    onDecision: (decision) => logger.debug(decision, "verify"),
  });
  const server = runtime.serve({
    hostname: config.host,
    port: config.port,
    idleTimeoutSeconds: 30,
    // Traefik sends no body; anything sizeable is not a ForwardAuth call.
    maxRequestBodySize: 64 * 1024,
    fetch: handler,
    onError: unhandledErrorResponder(logger),
  });
  logger.info({ host: config.host, port: server.port, keys: config.apiKeys.length }, "listening");
  return {
    port: server.port,
    async stop() {
      await server.stop(true);
      logger.info("stopped");
      logger.flush();
    },
  };
}

if (import.meta.main) {
  await runEntry({
    name: "codex-forward-auth",
    summary: "Traefik ForwardAuth sidecar for codex-completions-api: GET /verify checks the bearer key.",
    schema: AuthEnvSchema,
    healthUrl() {
      const { host, port } = loadAuthConfig(runtime.env());
      return probeUrl(host, port, "/healthz");
    },
    async serve() {
      const sidecar = startForwardAuth();
      const stop = () => void sidecar.stop().then(() => runtime.exit(0));
      runtime.onSignal("SIGTERM", stop);
      runtime.onSignal("SIGINT", stop);
    },
  });
}
