export { sensorsSubsystem, getSensorHost, type SensorsSubsystemOptions } from './subsystem.js';
export {
  SensorHost,
  SENSOR_SPAWN_TRIGGER,
  SENSOR_EXIT_TRIGGER,
  type SensorHostOptions,
  type SensorStatus,
  type SensorTrigger,
} from './host.js';
export { sensorRoutes } from './routes.js';
export { sensorJsHostPath, sensorPythonShimDirs, sensorPythonWrapperPath } from './paths.js';
export { SensorPartition, SENSORS_GROUP, sensorLease, type SensorPartitioner } from './partition.js';
