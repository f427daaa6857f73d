export { statsRoutes } from './routes.js';
export { actionStats, executionStats, executionsIn, queueStats, ruleStats, TOP } from './service.js';
export { statsWindow, STATS_RANGES, type StatsRange, type StatsWindow } from './window.js';
