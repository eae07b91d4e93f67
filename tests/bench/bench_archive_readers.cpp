// What each archive library reads to list a ZIP: libzip vs libarchive's seekable ZIP reader,
// over callbacks that record every byte range asked for. The figure that matters to SparseScope
// is the number of distinct chunks touched (each one is an upstream fetch). Never fails.
//   build/tests/bench_archive_readers FILE.zip [CHUNK_BYTES=262144]
#include <QByteArray>
#include <QFile>
#include <QSet>

#include <archive.h>
#include <archive_entry.h>
#include <cstdio>
#include <cstring>
#include <zip.h>

namespace {
struct Recorder {
    QByteArray data;
    qint64 position = 0;
    qint64 chunk = 262144;
    QSet<qint64> chunks;
    qint64 bytes = 0;
    QByteArray block;
    void touch(qint64 begin, qint64 length)
    {
        bytes += length;
        for (qint64 c = begin / chunk; length > 0 && c <= (begin + length - 1) / chunk; ++c)
            chunks.insert(c);
    }
};

zip_int64_t zipCallback(void *u, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    auto *r = static_cast<Recorder *>(u);
    switch (cmd) {
    case ZIP_SOURCE_OPEN: r->position = 0; return 0;
    case ZIP_SOURCE_READ: {
        const qint64 n = std::min<qint64>(qint64(len), r->data.size() - r->position);
        std::memcpy(data, r->data.constData() + r->position, size_t(n));
        r->touch(r->position, n);
        r->position += n;
        return n;
    }
    case ZIP_SOURCE_CLOSE: case ZIP_SOURCE_FREE: return 0;
    case ZIP_SOURCE_STAT: {
        auto *st = static_cast<zip_stat_t *>(data);
        zip_stat_init(st);
        st->size = zip_uint64_t(r->data.size());
        st->valid |= ZIP_STAT_SIZE;
        return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_SEEK: {
        zip_error_t e;
        zip_error_init(&e);
        r->position = zip_source_seek_compute_offset(zip_uint64_t(r->position), zip_uint64_t(r->data.size()), data, len, &e);
        return 0;
    }
    case ZIP_SOURCE_TELL: return r->position;
    case ZIP_SOURCE_SUPPORTS: return ZIP_SOURCE_SUPPORTS_SEEKABLE;
    default: return -1;
    }
}

la_ssize_t arRead(archive *, void *u, const void **buffer)
{
    auto *r = static_cast<Recorder *>(u);
    const qint64 n = std::min<qint64>(65536, r->data.size() - r->position);
    r->touch(r->position, n);
    *buffer = r->data.constData() + r->position;
    r->position += n;
    return n;
}
la_int64_t arSeek(archive *, void *u, la_int64_t offset, int whence)
{
    auto *r = static_cast<Recorder *>(u);
    r->position = whence == SEEK_SET ? offset : whence == SEEK_CUR ? r->position + offset : r->data.size() + offset;
    return r->position;
}
la_int64_t arSkip(archive *, void *u, la_int64_t request)
{
    auto *r = static_cast<Recorder *>(u);
    r->position += request;
    return request;
}
} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE.zip [CHUNK_BYTES]\n", argv[0]);
        return 2;
    }
    QFile f(QString::fromLocal8Bit(argv[1]));
    if (!f.open(QIODevice::ReadOnly))
        return 1;
    const QByteArray data = f.readAll();
    const qint64 chunk = argc > 2 ? QByteArray(argv[2]).toLongLong() : 262144;

    Recorder z{data, 0, chunk, {}, 0, {}};
    zip_error_t err;
    zip_error_init(&err);
    zip_t *za = zip_open_from_source(zip_source_function_create(zipCallback, &z, &err), ZIP_RDONLY, &err);
    const qint64 zipEntries = za ? zip_get_num_entries(za, 0) : -1;
    if (za)
        zip_discard(za);

    Recorder a{data, 0, chunk, {}, 0, {}};
    archive *ar = archive_read_new();
    archive_read_support_format_zip_seekable(ar);
    archive_read_set_read_callback(ar, arRead);
    archive_read_set_seek_callback(ar, arSeek);
    archive_read_set_skip_callback(ar, arSkip);
    archive_read_set_callback_data(ar, &a);
    qint64 arEntries = 0;
    if (archive_read_open1(ar) == ARCHIVE_OK) {
        archive_entry *e = nullptr;
        while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
            ++arEntries;
            archive_read_data_skip(ar);
        }
    }
    archive_read_free(ar);

    const qint64 chunks = (data.size() + chunk - 1) / chunk;
    std::printf("\n%-36s %8s %14s %16s %9s\n", "listing a ZIP", "entries", "bytes read", "chunks touched", "of all");
    std::printf("%-36s %8lld %14lld %9lld / %-5lld %8.1f%%\n", "libzip (chosen)", zipEntries, z.bytes, qint64(z.chunks.size()), chunks,
                100.0 * z.chunks.size() / chunks);
    std::printf("%-36s %8lld %14lld %9lld / %-5lld %8.1f%%\n", "libarchive zip_seekable", arEntries, a.bytes, qint64(a.chunks.size()), chunks,
                100.0 * a.chunks.size() / chunks);
    std::printf("ratio (libarchive / libzip chunks): %.1fx\n\n", double(a.chunks.size()) / std::max<qint64>(1, z.chunks.size()));
    return 0;
}
