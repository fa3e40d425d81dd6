// Kinesalite on one loopback port: its own CLI listens on every interface, so it is started from here instead.
// Usage: NODE_PATH=<dir with kinesalite> node server.js PORT
// In-memory only (no `path`): a restart starts with no streams, and leveldown's native build is not needed.
'use strict'

const kinesalite = require('kinesalite')

const port = Number(process.argv[2])
const host = '127.0.0.1'
// Fast stream state changes keep tests quick; a high shard limit lets tests make many multi-shard streams.
const server = kinesalite({ shardLimit: 100, createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50 })

server.on('error', (error) => {
  console.error(`kinesalite: ${error.message}`)
  process.exit(1)
})
server.listen(port, host, () => console.log(`kinesalite listening on http://${host}:${port}`))

process.on('SIGTERM', () => server.close(() => process.exit(0)))
