// tests/sts/dynalite/start.js - run dynalite (in memory) on a loopback
// address only, write the port it got to a file, and exit after a
// lifetime.  dynalite's own command line listens on every interface.
//
//   node start.js MODULES_DIR BIND PORT_FILE LIFETIME_SECONDS
'use strict'
const fs = require('fs')
const path = require('path')

const [modules, bind, portFile, lifetime] = process.argv.slice(2)
if (!modules || !['127.0.0.1', '::1'].includes(bind) || !portFile || !(Number(lifetime) > 0)) {
  console.error('usage: start.js MODULES_DIR 127.0.0.1|::1 PORT_FILE LIFETIME_SECONDS')
  process.exit(2)
}
const dynalite = require(path.join(modules, 'dynalite'))
const server = dynalite({createTableMs: 0, deleteTableMs: 0, updateTableMs: 0})
server.listen(0, bind, () => {
  const tmp = portFile + '.tmp'
  fs.writeFileSync(tmp, server.address().port + '\n')
  fs.renameSync(tmp, portFile)
  console.error('dynalite: listening on ' + bind + ' port ' + server.address().port)
})
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setTimeout(() => process.exit(0), Number(lifetime) * 1000).unref()
