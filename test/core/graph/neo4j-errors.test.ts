import {expect} from 'chai'
import {Neo4jError} from 'neo4j-driver'

import {
  connectError,
  describeFailure,
  isConnectivity,
  Neo4jUnavailable,
  redact,
  safeUri,
} from '../../../src/core/graph/neo4j-errors.js'

/** An error as the driver builds it (code 'N/A' when it has none). */
const driverError = (message: string, code = 'N/A'): Neo4jError => new Neo4jError(message, code, '50N42', message)

const conn = {
  uri: 'bolt://neo4j:S3cret-Pass@db.internal:7687',
  user: 'neo4j',
  password: 'S3cret-Pass',
  database: undefined,
}

describe('graph/neo4j-errors', () => {
  it('tells connectivity by the driver code first, by the message only when there is no code', () => {
    const cases: [unknown, boolean][] = [
      [driverError('Failed to connect to server', 'ServiceUnavailable'), true],
      [driverError('Connection was closed by server', 'SessionExpired'), true],
      [driverError('Connection acquisition timed out in 1000 ms. Pool status: ...'), true],
      [driverError('Pool is closed, it is no more able to serve requests.'), true],
      [new Error('connect ECONNREFUSED 127.0.0.1:7687'), true],
      [new Neo4jUnavailable('refused'), true],
      [driverError('deadlock', 'Neo.TransientError.Transaction.DeadlockDetected'), false],
      // A code decides: a message that happens to name a socket error does not make a refused write an outage.
      [driverError('property value ECONNRESET too large', 'Neo.ClientError.Statement.ArgumentError'), false],
      [driverError('something else'), false],
      [new Error('a bug'), false],
    ]
    for (const [error, expected] of cases) expect(isConnectivity(error), String(error)).to.equal(expected)
  })

  it('describes a failure with its code, Neo4j code and message, without the password or URI credentials', () => {
    const refused = describeFailure(driverError(`cannot reach ${conn.uri}`, 'ServiceUnavailable'), conn)
    expect(refused).to.deep.equal({
      code: 'E_NEO4J_UNAVAILABLE',
      error: 'cannot reach bolt://db.internal:7687',
      connectivity: true,
    })
    const rejected = describeFailure(
      driverError('bad value S3cret-Pass', 'Neo.ClientError.Statement.ArgumentError'),
      conn,
    )
    expect(rejected).to.deep.equal({
      code: 'E_NEO4J_WRITE',
      error: 'Neo.ClientError.Statement.ArgumentError: bad value ***',
      connectivity: false,
    })
    const long = describeFailure(driverError('x'.repeat(5000), 'Neo.ClientError.Statement.ArgumentError'), conn)
    expect(long.error).to.have.length(2003)
  })

  it('turns a failed connect into E_CONFIG for rejected credentials or database, else E_NEO4J_UNAVAILABLE', () => {
    const auth = connectError(driverError('The client is unauthorized', 'Neo.ClientError.Security.Unauthorized'), conn)
    expect([auth.code, auth.exit]).to.deep.equal(['E_CONFIG', 78])
    expect(`${auth.message} ${auth.hint ?? ''}`).not.to.include('S3cret')
    const db = connectError(driverError('no such database', 'Neo.ClientError.Database.DatabaseNotFound'), conn)
    expect([db.code, db.hint]).to.deep.equal(['E_CONFIG', 'Check NEO4J_DATABASE.'])
    const down = connectError(driverError(`refused S3cret-Pass`, 'ServiceUnavailable'), conn)
    expect([down.code, down.exit]).to.deep.equal(['E_NEO4J_UNAVAILABLE', 69])
    expect(down.message).to.equal('Neo4j at bolt://db.internal:7687 is unreachable: refused ***')
  })

  it('redacts the password and the URI credentials', () => {
    expect(safeUri('neo4j+s://u:p@host:7687/x')).to.equal('neo4j+s://host:7687/x')
    expect(safeUri('bolt://host:7687')).to.equal('bolt://host:7687')
    expect(redact(`${conn.uri} said S3cret-Pass`, conn)).to.equal('bolt://db.internal:7687 said ***')
  })
})
