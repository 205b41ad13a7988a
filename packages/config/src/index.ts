export { parseConfig, type Env } from "./parse-config.ts";
export { ConfigError, type ConfigProblem } from "./config-error.ts";
export { field, isSecretField } from "./fields.ts";
export { serviceConnection, serviceFields, type ServiceConnection } from "./service-fields.ts";
export { workerFields, type WorkerFields, type WorkerSetting } from "./worker-fields.ts";
