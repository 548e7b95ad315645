// marked-man ships no types; it is a marked extension object.
declare module 'marked-man' {
  import type {MarkedExtension} from 'marked'
  const extension: MarkedExtension
  export default extension
}
