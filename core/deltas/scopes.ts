import { ALL_SCOPE, methodScope, serviceScope } from '../stats/keys';
import { emptyCell, mergeCell, type DeltaCell } from './cell';

/** The Stats scopes a (service, method) cell counts in: `ALL`, `S#<service>`, `M#<service>#<method>`. */
export const scopesOfCell = (cell: Pick<DeltaCell, 'service' | 'method'>): [string, string, string] => [
  ALL_SCOPE,
  serviceScope(cell.service),
  methodScope(cell.service, cell.method),
];

/**
 * Folds cells (of any deltas, any instances) into one cell per Stats scope, into `into` (which
 * is returned): what the aggregator writes for a minute, and what readers add for the minutes
 * not closed yet. Cells of empty totals are skipped. A scope's cell keeps the names of the
 * cell that opened it (`ALL`'s are meaningless).
 */
export function foldCellsByScope(
  cells: Iterable<DeltaCell>,
  into: Map<string, DeltaCell> = new Map(),
): Map<string, DeltaCell> {
  for (const cell of cells) {
    if (cell.total === 0) continue;
    for (const scope of scopesOfCell(cell)) {
      let merged = into.get(scope);
      if (!merged) into.set(scope, (merged = emptyCell(cell.service, cell.method)));
      mergeCell(merged, cell);
    }
  }
  return into;
}
