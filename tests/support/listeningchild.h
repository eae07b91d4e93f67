#pragma once
// Test servers run as child processes (the latency proxy, the S3 server) print "listening PORT"
// once they accept connections.

#include <QProcess>
#include <QString>
#include <QStringList>

namespace sparsescope::test {

// Starts `program` with `arguments` in `process` and waits (up to 10 s) for its "listening PORT"
// line. Returns the port, or 0 with `*error` saying why (what it printed on stderr included).
quint16 startListeningChild(QProcess &process, const QString &program, const QStringList &arguments, QString *error);

} // namespace sparsescope::test
