/**
 * In-process statistics: the cells a monitor folds every call into, and the delta items it
 * ships. See docs/aggregation.md.
 */
export { addCallToCell, emptyCell, mergeCell, type CellCall, type DeltaCell } from './cell';
export {
  cellsOfItem,
  decodeCells,
  deltaItem,
  deltaSortKey,
  encodeCells,
  DELTA_ATTRIBUTE,
  type MonitorDelta,
} from './deltaItem';
export { foldCellsByScope, scopesOfCell } from './scopes';
