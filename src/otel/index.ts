// The `stratacache/otel` entry point: the OpenTelemetry adapter (`@opentelemetry/api` is an optional peer).
export type {
  ObservedRuntime,
  StratacacheInstrumentation,
  StratacacheInstrumentationOptions,
} from "./otel-instrumentation.js";
export { instrumentStratacache } from "./otel-instrumentation.js";
