#include "source.h"
#include "httpsource.h"
#include "localfilesource.h"

#include <QUrl>

namespace sparsescope {

Result<std::unique_ptr<Source>> createSource(const QUrl &url, const SourceOptions &options, std::shared_ptr<Statistics> statistics)
{
    const QString scheme = url.scheme().toLower();
    if (scheme == u"http" || scheme == u"https")
        return std::unique_ptr<Source>(new HttpSource(url, options, std::move(statistics)));
    if (url.isLocalFile())
        return std::unique_ptr<Source>(new LocalFileSource(url.toLocalFile(), options, std::move(statistics)));
    return makeError(ErrorKind::Usage, QStringLiteral("unsupported source \"%1\": use an http://, https:// or file:// URL, "
                                                      "or a local path").arg(url.toDisplayString(QUrl::RemoveUserInfo)));
}

} // namespace sparsescope
