import {expect} from 'chai'

import {useNeo4j} from '../helpers/neo4j.js'

// A plain driver round trip, no project code: proves the test server (scripts/neo4j-test-server.sh) works.
describe('Neo4j test server round trip', function () {
  this.timeout(30_000)
  const ctx = useNeo4j()

  it('writes a node with parameters and reads the same values back', async () => {
    const props = {name: "o'brien `x`\n表", n: 42, ratio: 0.5, tags: ['a', 'b'], ok: true}
    await ctx.query('CREATE (p:RoundtripProbe) SET p = $props', {props})
    const rows = await ctx.query('MATCH (p:RoundtripProbe) RETURN properties(p) AS props')
    expect(rows).to.deep.equal([{props}])
  })

  it('creates a uniqueness constraint, lists it and enforces it', async () => {
    try {
      await enforced()
    } finally {
      await ctx.query('DROP CONSTRAINT roundtrip_probe_name IF EXISTS')
    }
  })

  async function enforced(): Promise<void> {
    await ctx.query(
      'CREATE CONSTRAINT roundtrip_probe_name IF NOT EXISTS FOR (p:RoundtripProbe) REQUIRE p.name IS UNIQUE',
    )
    const listed = await ctx.query("SHOW CONSTRAINTS YIELD name WHERE name = 'roundtrip_probe_name' RETURN name")
    expect(listed).to.deep.equal([{name: 'roundtrip_probe_name'}])
    await ctx.query("CREATE (:RoundtripProbe {name: 'one'})")
    const error = await ctx.query("CREATE (:RoundtripProbe {name: 'one'})").then(
      () => undefined,
      (e: unknown) => e as {code?: string},
    )
    expect(error?.code).to.equal('Neo.ClientError.Schema.ConstraintValidationFailed')
    expect(await ctx.query('MATCH (p:RoundtripProbe) RETURN count(p) AS n')).to.deep.equal([{n: 1}])
  }
})
