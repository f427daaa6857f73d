export { timersSubsystem, getTimerEngine } from './subsystem.js';
export {
  TimerEngine,
  TIMER_TICK_JOB,
  DEFAULT_TIMER_SETTINGS,
  type TimerSettings,
  type TimerJobData,
  type TimerView,
  type DesiredTimer,
  type ReconcileReport,
} from './engine.js';
export {
  planTicks,
  CATCH_UP_POLICIES,
  type CatchUpPolicy,
  type TickPlan,
  type TickPlanInput,
} from './catchup.js';
export {
  timerSchedule,
  timerProblem,
  isTimerType,
  TIMER_TYPES,
  INTERVAL_TIMER,
  DATE_TIMER,
  CRON_TIMER,
  type TimerSchedule,
  type TimerType,
  type IntervalUnit,
} from './schedule.js';
export {
  compileCron,
  nextCronTime,
  isoWeekOf,
  weekdayOf,
  CRON_FIELDS,
  type CronSpec,
  type CronField,
} from './cron.js';
export { wallTimeOf, instantOf, checkTimezone, type WallTime } from './tz.js';
export { timerRoutes } from './routes.js';
