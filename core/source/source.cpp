#include "source.h"
#include "httpsource.h"
#include "localfilesource.h"
#include "awssettings.h"

#include <QUrl>

namespace sparsescope {

Result<std::unique_ptr<Source>> createSource(const QUrl &url, const SourceOptions &options, std::shared_ptr<Statistics> statistics)
{
    const QString scheme = url.scheme().toLower();
    if (scheme == u"http" || scheme == u"https")
        return std::unique_ptr<Source>(new HttpSource(url, options, std::move(statistics)));
    if (scheme == u"s3") {
        auto settings = aws::resolveS3Settings();
        if (!settings)
            return settings.error();
        if (url.host().isEmpty() || url.path().size() < 2)
            return makeError(ErrorKind::Usage, QStringLiteral("\"%1\" names no object: write s3://BUCKET/KEY").arg(url.toDisplayString()));
        return std::unique_ptr<Source>(new HttpSource(url, options, std::move(statistics), std::move(settings).value()));
    }
    if (url.isLocalFile())
        return std::unique_ptr<Source>(new LocalFileSource(url.toLocalFile(), options, std::move(statistics)));
    return makeError(ErrorKind::Usage, QStringLiteral("unsupported source \"%1\": use an http://, https://, s3:// or file:// URL, "
                                                      "or a local path").arg(url.toDisplayString(QUrl::RemoveUserInfo)));
}

} // namespace sparsescope
