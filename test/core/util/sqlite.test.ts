import {expect} from 'chai'

import {openDatabase, SQLITE_PACKAGE, sqlitePackageFor} from '../../../src/core/util/sqlite.js'

describe('sqlite loader', () => {
  it('loads the N-API build from Node 22 on and the ObjectWrap build on Node 20', () => {
    expect(sqlitePackageFor('20.19.0')).to.equal('better-sqlite3')
    expect(sqlitePackageFor('22.0.0')).to.equal('better-sqlite3-napi')
    expect(sqlitePackageFor('24.21.0')).to.equal('better-sqlite3-napi')
    expect(SQLITE_PACKAGE).to.equal(sqlitePackageFor(process.versions.node))
  })

  // The Node 24 pass of CI is the real check: better-sqlite3 12 aborted that run (exit 134) in a GC.
  it('opens a database and runs statements on this Node', () => {
    const db = openDatabase(':memory:')
    try {
      expect(db.prepare('select ? + 1 as v').get(41)).to.deep.equal({v: 42})
    } finally {
      db.close()
    }
  })
})
