/** cli-table3 without colour codes when stdout is not a terminal or NO_COLOR is set. */
import Table from 'cli-table3'

export function makeTable(head: string[]): Table.Table {
  const plain = !process.stdout.isTTY || process.env.NO_COLOR !== undefined
  return new Table({head, style: plain ? {head: [], border: []} : {head: ['cyan']}})
}
