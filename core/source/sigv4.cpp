#include "sigv4.h"

#include <QUrlQuery>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace sparsescope::sigv4 {

namespace {
QByteArray hmac(const QByteArray &key, const QByteArray &data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.constData(), int(key.size()), reinterpret_cast<const unsigned char *>(data.constData()), size_t(data.size()),
         out, &length);
    return QByteArray(reinterpret_cast<const char *>(out), int(length));
}

QByteArray sha256Hex(const QByteArray &data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.constData(), size_t(data.size()), out, &length, EVP_sha256(), nullptr);
    return QByteArray(reinterpret_cast<const char *>(out), int(length)).toHex();
}

// RFC 3986 unreserved characters stay, everything else is %XX (upper case), as SigV4 wants.
QByteArray uriEncode(const QByteArray &decoded, bool keepSlash)
{
    return decoded.toPercentEncoding(keepSlash ? "/~" : "~", {}).replace("%7E", "~");
}

QByteArray canonicalQuery(const QUrl &url)
{
    QList<std::pair<QByteArray, QByteArray>> items;
    for (const auto &[key, value] : QUrlQuery(url).queryItems(QUrl::FullyDecoded))
        items.append({uriEncode(key.toUtf8(), false), uriEncode(value.toUtf8(), false)});
    std::sort(items.begin(), items.end());
    QByteArray out;
    for (const auto &[key, value] : items)
        out += (out.isEmpty() ? "" : "&") + key + '=' + value;
    return out;
}

QByteArray hostHeader(const QUrl &url)
{
    const int port = url.port();
    const bool standard = port < 0 || (url.scheme() == u"https" && port == 443) || (url.scheme() == u"http" && port == 80);
    return url.host(QUrl::FullyEncoded).toLatin1() + (standard ? QByteArray() : ':' + QByteArray::number(port));
}

Headers sortedLower(Headers headers)
{
    for (auto &[name, value] : headers) {
        name = name.toLower();
        value = value.simplified();
    }
    std::sort(headers.begin(), headers.end());
    return headers;
}

// "host;range;x-amz-date": the signed header names, lower case and sorted.
QByteArray signedNames(const Headers &headers)
{
    QByteArray names;
    for (const auto &[name, value] : sortedLower(headers))
        names += (names.isEmpty() ? "" : ";") + name;
    return names;
}
} // namespace

QByteArray canonicalRequest(const QByteArray &method, const QUrl &url, const Headers &signedHeaders, const QByteArray &payloadHash)
{
    QByteArray lines;
    for (const auto &[name, value] : sortedLower(signedHeaders))
        lines += name + ':' + value + '\n';
    QByteArray path = uriEncode(url.path(QUrl::FullyDecoded).toUtf8(), true);
    if (path.isEmpty())
        path = "/";
    return method + '\n' + path + '\n' + canonicalQuery(url) + '\n' + lines + '\n' + signedNames(signedHeaders) + '\n' + payloadHash;
}

Headers sign(const QByteArray &method, const QUrl &url, const Headers &headers, const aws::Credentials &credentials,
             const QString &region, const QDateTime &now, const QByteArray &service)
{
    if (credentials.isEmpty())
        return {};
    const QByteArray stamp = now.toUTC().toString(QStringLiteral("yyyyMMddTHHmmssZ")).toLatin1();
    const QByteArray day = stamp.left(8);
    Headers added = {{"x-amz-date", stamp}, {"x-amz-content-sha256", kEmptyPayloadHash}};
    if (!credentials.sessionToken.isEmpty())
        added.append({"x-amz-security-token", credentials.sessionToken.toUtf8()});
    Headers toSign = headers + added;
    toSign.append({"host", hostHeader(url)});
    const QByteArray scope = day + '/' + region.toUtf8() + '/' + service + "/aws4_request";
    const QByteArray stringToSign = "AWS4-HMAC-SHA256\n" + stamp + '\n' + scope + '\n' +
                                    sha256Hex(canonicalRequest(method, url, toSign, kEmptyPayloadHash));
    QByteArray key = hmac("AWS4" + credentials.secretAccessKey.toUtf8(), day);
    key = hmac(key, region.toUtf8());
    key = hmac(key, service);
    key = hmac(key, "aws4_request");
    const QByteArray signature = hmac(key, stringToSign).toHex();
    added.append({"Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.accessKeyId.toUtf8() + '/' + scope +
                                       ",SignedHeaders=" + signedNames(toSign) + ",Signature=" + signature});
    return added;
}

} // namespace sparsescope::sigv4
