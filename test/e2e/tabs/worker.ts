/** The SharedWorker of the `via: 'worker'` browser test: it holds the sockets of every tab. */
import { serveTabs } from '../../../src/core'

serveTabs()
