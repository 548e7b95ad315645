import {hostname} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {
  buildRunEvent,
  COLUMN_LINEAGE_FACET_SCHEMA_URL,
  type EventSource,
  PRODUCER,
  RUN_EVENT_SCHEMA_URL,
  runId,
} from '../../../src/core/openlineage/event.js'
import {displayUrl, parseEndpoint} from '../../../src/core/openlineage/transport.js'
import {folderNamespace, lineageNamespace} from '../../../src/core/ops/namespace.js'
import {extractLineage} from '../../../src/core/sql/index.js'

const ETL = `CREATE TABLE staging.orders_tmp AS SELECT o.id, o.customer_id, o.amount FROM raw.orders o;
INSERT INTO mart.customer_totals (customer_id, total)
SELECT t.customer_id, sum(t.amount) + max(f.rate) AS total FROM staging.orders_tmp t JOIN ref.fx f ON f.id = t.id
GROUP BY t.customer_id;
DROP TABLE staging.orders_tmp;
`

function sourceOf(sql: string, path = 'jobs/etl.sql'): EventSource {
  const lineage = extractLineage(sql, {path, dialect: 'ansi'})
  return {
    path,
    contentHash: 'abc',
    ingestedAt: '2026-12-05T10:00:00.000Z',
    dialect: lineage.dialect,
    sources: lineage.sources,
    targets: lineage.targets,
    columns: lineage.columns,
    statementColumns: lineage.statements.flatMap((s) => s.columns),
    sql,
  }
}

describe('OpenLineage RunEvent of one file', () => {
  it('names the job by namespace and path, its datasets by the tables the file reads and writes as a whole', () => {
    const event = buildRunEvent(sourceOf(ETL), 'payments')
    expect(event).to.deep.include({eventType: 'COMPLETE', eventTime: '2026-12-05T10:00:00.000Z'})
    expect(event.schemaURL).to.equal(RUN_EVENT_SCHEMA_URL)
    expect(event.producer)
      .to.equal(PRODUCER)
      .and.match(/^https:\/\/\S+\/v?0\.1\.0$/)
    expect(event.job).to.deep.include({namespace: 'payments', name: 'jobs/etl.sql'})
    expect(event.job.facets?.sql).to.deep.include({query: ETL, dialect: 'ansi'})
    // The temporary table is written and read inside the file: neither an input nor an output.
    expect(event.inputs.map((d) => d.name).sort()).to.deep.equal(['raw.orders', 'ref.fx'])
    expect(event.outputs.map((d) => d.name)).to.deep.equal(['mart.customer_totals'])
    for (const d of [...event.inputs, ...event.outputs]) expect(d.namespace).to.equal('payments')
  })

  it('puts column lineage on the outputs, through the temporary table to the columns read', () => {
    const facet = buildRunEvent(sourceOf(ETL), 'ns').outputs[0]?.facets?.columnLineage
    expect(facet?._schemaURL).to.equal(COLUMN_LINEAGE_FACET_SCHEMA_URL)
    expect(facet?.fields.customer_id?.inputFields).to.deep.equal([
      {namespace: 'ns', name: 'raw.orders', field: 'customer_id'},
    ])
    expect(facet?.fields.total?.inputFields).to.have.deep.members([
      {namespace: 'ns', name: 'raw.orders', field: 'amount'},
      {namespace: 'ns', name: 'ref.fx', field: 'rate'},
    ])
  })

  it('leaves out sources of unknown tables and unexpanded stars, and the SQL facet when the text is gone', () => {
    const source = sourceOf('INSERT INTO mart.a SELECT * FROM raw.b;\n')
    const event = buildRunEvent({...source, sql: undefined}, 'ns')
    expect(event.job.facets).to.equal(undefined)
    expect(event.outputs).to.deep.equal([{namespace: 'ns', name: 'mart.a'}])
    const unknown = buildRunEvent(
      {...source, columns: [{target: 'mart.a.x', sources: ['?.x', 'raw.b.y']}], targets: ['mart.a']},
      'ns',
    )
    expect(unknown.outputs[0]?.facets?.columnLineage.fields).to.deep.equal({
      x: {inputFields: [{namespace: 'ns', name: 'raw.b', field: 'y'}]},
    })
  })

  it('derives the runId: a UUID v7 at the ingestion time, the same for the same ingestion, else another', () => {
    const id = runId('ns', 'a.sql', 'h1', '2026-12-05T10:00:00.000Z')
    expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).to.equal(Date.parse('2026-12-05T10:00:00.000Z'))
    expect(runId('ns', 'a.sql', 'h1', '2026-12-05T10:00:00.000Z')).to.equal(id)
    const others = [
      runId('other', 'a.sql', 'h1', '2026-12-05T10:00:00.000Z'),
      runId('ns', 'b.sql', 'h1', '2026-12-05T10:00:00.000Z'),
      runId('ns', 'a.sql', 'h2', '2026-12-05T10:00:00.000Z'),
      runId('ns', 'a.sql', 'h1', '2026-12-05T10:00:00.001Z'),
    ]
    expect(new Set([id, ...others]).size).to.equal(5)
  })
})

describe('lineage namespace', () => {
  it('is the explicit value, else the setting, else the watched folder as a file:// URI with the host', () => {
    expect(lineageNamespace({explicit: 'a', setting: 'b', rawDir: '/x'})).to.equal('a')
    expect(lineageNamespace({explicit: ' ', setting: 'b', rawDir: '/x'})).to.equal('b')
    expect(lineageNamespace({rawDir: '/srv/sql repo/'})).to.equal(`file://${hostname().toLowerCase()}/srv/sql%20repo`)
    expect(folderNamespace('/srv/sql', 'build-1')).to.equal('file://build-1/srv/sql')
    expect(folderNamespace('rel', 'h')).to.equal(`file://h${join(process.cwd(), 'rel')}`)
  })
})

describe('OpenLineage endpoint', () => {
  it('sends URL credentials as basic auth, defaults the path, and never shows the secrets', () => {
    const e = parseEndpoint('https://ol:s3cret%21@marquez.internal:5000?api_key=tok')
    expect(e.url).to.equal('https://marquez.internal:5000/api/v1/lineage?api_key=tok')
    expect(e.headers.authorization).to.equal(`Basic ${Buffer.from('ol:s3cret!').toString('base64')}`)
    expect(e.display).to.equal('https://marquez.internal:5000/api/v1/lineage?…')
    expect(displayUrl('http://u:p@h/x')).to.equal('http://h/x')
    expect(parseEndpoint('http://h/custom/path').url).to.equal('http://h/custom/path')
    const error = ((): unknown => {
      try {
        parseEndpoint('ftp://u:secret@h/')
      } catch (e) {
        return e
      }
    })()
    expect(String(error))
      .to.match(/not http\(s\)/)
      .and.not.match(/secret/)
  })
})
