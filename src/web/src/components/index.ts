// The public surface of src/web/src/components: other folders import it from here.
export { SchemaForm, collect, fieldsFromJsonSchema, fieldsFromParams, initialValues } from './SchemaForm';
export type { FormValues } from './SchemaForm';
export { JsonView } from './JsonView';
export { VirtualList } from './VirtualList';
export { WorkflowGraph } from './WorkflowGraph';
export type { WorkflowGraphData } from './WorkflowGraph';
export { RunTimeline, useWorkflowData } from './RunTimeline';
export { StackedBars } from './StackedBars';
export type { Bar } from './StackedBars';
