import {tmpDir} from '../../helpers/tmp.js'

/**
 * A fresh temporary folder for each test of the suite that calls this; after each test the cleanup runs (stop
 * the service or reap the child process started in it), then the folder is removed.
 */
export function useFaultDir(cleanup: () => Promise<unknown>): {readonly dir: string} {
  let tmp: ReturnType<typeof tmpDir> | undefined
  beforeEach(() => {
    tmp = tmpDir('lineage-fault-')
  })
  afterEach(async () => {
    await cleanup()
    tmp?.remove()
  })
  return {
    get dir(): string {
      if (!tmp) throw new Error('useFaultDir: the folder exists only inside a test')
      return tmp.dir
    },
  }
}
