import {expect} from 'chai'

import {DEFAULT_LEX} from '../../../src/core/sql/lexer.js'
import {renderTemplate, UNRENDERED_MARKER} from '../../../src/core/sql/template.js'
import {lineage} from './helpers.js'

const render = (sql: string, vars: Record<string, string> = {}) => renderTemplate(sql, vars, DEFAULT_LEX)

describe('sql templates', () => {
  const cases: [string, string, Record<string, string>, string][] = [
    ['${var}', 'SELECT * FROM ${db}.t', {db: 'prod'}, 'SELECT * FROM prod.t'],
    ['${var} inside a string', "WHERE dt = '${run_date}'", {run_date: '2024-06-30'}, "WHERE dt = '2024-06-30'"],
    ['Hive ${hiveconf:var}', 'FROM ${hiveconf:db}.t', {db: 'x'}, 'FROM x.t'],
    ['{{ var }}', 'FROM {{ schema }}.t', {schema: 's'}, 'FROM s.t'],
    ['dbt ref()', "FROM {{ ref('orders') }}", {}, 'FROM orders'],
    ['dbt source()', "FROM {{ source('raw', 'orders') }}", {}, 'FROM raw.orders'],
    ['dbt var() with a default', "WHERE d > '{{ var('start', '2024-01-01') }}'", {}, "WHERE d > '2024-01-01'"],
    [':var bind variables', 'WHERE id = :id AND d=:d', {id: '7', d: "'x'"}, "WHERE id = 7 AND d='x'"],
    [':: casts are not placeholders', 'SELECT a::int, b :: text', {int: 'NO', text: 'NO'}, 'SELECT a::int, b :: text'],
    ['time literals in strings are not placeholders', "WHERE t = '10:30:00'", {30: 'NO'}, "WHERE t = '10:30:00'"],
    [
      'Snowflake path access is not a placeholder',
      'SELECT src:customer FROM t',
      {customer: 'NO'},
      'SELECT src:customer FROM t',
    ],
    [':= assignments are not placeholders', 'v := 1', {}, 'v := 1'],
    ['{# comments #} and {% tags %} are removed', '{# c #}SELECT 1 {% if x %}', {}, 'SELECT 1 '],
  ]
  for (const [name, sql, vars, want] of cases) {
    it(name, () => {
      expect(render(sql, vars).text).to.equal(want)
    })
  }

  it('replaces an unrendered placeholder with a marker and maps offsets back', () => {
    const r = render('SELECT * FROM ${env}_db.t WHERE x = 1')
    expect(r.text).to.contain(`${UNRENDERED_MARKER}0__`)
    expect(r.placeholders).to.deep.equal([{name: 'env', start: 14, end: 20, rendered: false}])
    expect(r.map.toOriginal(r.text.indexOf('WHERE'))).to.equal('SELECT * FROM ${env}_db.t WHERE x = 1'.indexOf('WHERE'))
  })

  it('never lets an unrendered placeholder become a table name', () => {
    const f = lineage('INSERT INTO ${target}.orders SELECT * FROM {{ src }}_raw;\nSELECT a FROM ok_table')
    expect(JSON.stringify(f)).not.to.contain(UNRENDERED_MARKER)
    expect(f.targets).to.deep.equal([])
    expect(f.sources).to.deep.equal(['ok_table'])
    expect(f.status).to.equal('partial')
    expect(f.errors[0]).to.include({code: 'E_TEMPLATE', line: 1, column: 13})
    expect(f.statements[0]?.warnings?.join()).to.contain('unrendered template placeholder "${target}"')
  })

  it('substitutes --var values before parsing', () => {
    const f = lineage("INSERT INTO ${db}.t SELECT * FROM src WHERE d = '${d}'", 'ansi', {
      vars: {db: 'mart', d: '2024-01-01'},
    })
    expect(f.targets).to.deep.equal(['mart.t'])
    expect(f.status).to.equal('ok')
  })
})
