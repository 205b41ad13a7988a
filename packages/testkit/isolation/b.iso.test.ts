import { isolationScenario } from "./shared.ts";
isolationScenario("B");
