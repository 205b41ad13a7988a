import { isolationScenario } from "./shared.ts";
isolationScenario("A");
