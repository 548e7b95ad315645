/** cli-table3, compact (no rule between rows), without colour codes when stdout is not a terminal or NO_COLOR is set. */
import Table from 'cli-table3'

const COMPACT = {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''}

export function makeTable(head: string[]): Table.Table {
  const plain = !process.stdout.isTTY || process.env.NO_COLOR !== undefined
  return new Table({head, chars: COMPACT, style: plain ? {head: [], border: []} : {head: ['cyan']}})
}
