export { PolicyEngine } from './engine.js';
export { policiesSubsystem } from './subsystem.js';
