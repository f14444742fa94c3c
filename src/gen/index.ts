/**
 * fast-check arbitraries for streamsim: plans, inputs, configurations, fault plans and whole
 * scenarios. Every generated value is valid by construction and shrinks toward small ones.
 */
export * from "./plan.ts";
export * from "./inputs.ts";
export * from "./config.ts";
export * from "./faults.ts";
export * from "./scenario.ts";
export * from "./minimize.ts";
