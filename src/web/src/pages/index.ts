// The public surface of src/web/src/pages: other folders import it from here.
export { Login } from './Login';
export { History } from './History';
export { ExecutionDetail } from './ExecutionDetail';
export { Actions } from './Actions';
export { Rules } from './Rules';
export { Packs } from './Packs';
export { Triggers } from './Triggers';
export { Inquiries } from './Inquiries';
export { Datastore } from './Datastore';
export { ChatLog } from './ChatLog';
export { ChatLinkConfirm, ChatLinks } from './ChatLinks';
export { Trace } from './Trace';
export { Dashboard } from './Dashboard';
