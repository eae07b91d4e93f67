#pragma once
// ChecksumTable: the XXH3-64 checksum of each present chunk, kept in pages of 4096 entries that
// are allocated on first use, so a sparsely cached 1 TiB object (4 Mi chunks) pays 32 KiB per page
// actually touched rather than 32 MiB up front. Not thread-safe (the store guards it).

#include <QtGlobal>

#include <array>
#include <memory>
#include <vector>

namespace sparsescope {

class ChecksumTable {
public:
    ChecksumTable() = default;
    ChecksumTable(ChecksumTable &&) noexcept = default;
    ChecksumTable &operator=(ChecksumTable &&) noexcept = default;
    ChecksumTable(const ChecksumTable &other) { *this = other; }
    ChecksumTable &operator=(const ChecksumTable &other)
    {
        if (this != &other) {
            m_pages.clear();
            m_pages.resize(other.m_pages.size());
            for (size_t i = 0; i < other.m_pages.size(); ++i)
                if (other.m_pages[i])
                    m_pages[i] = std::make_unique<std::array<quint64, kPage>>(*other.m_pages[i]);
        }
        return *this;
    }

    void resize(qint64 chunkCount) { m_pages.clear(); m_pages.resize(static_cast<size_t>((chunkCount + kPage - 1) / kPage)); }
    void set(qint64 index, quint64 checksum)
    {
        auto &page = m_pages[static_cast<size_t>(index / kPage)];
        if (!page)
            page = std::make_unique<std::array<quint64, kPage>>();
        (*page)[static_cast<size_t>(index % kPage)] = checksum;
    }
    quint64 get(qint64 index) const
    {
        const auto &page = m_pages[static_cast<size_t>(index / kPage)];
        return page ? (*page)[static_cast<size_t>(index % kPage)] : 0;
    }

private:
    static constexpr qint64 kPage = 4096;
    std::vector<std::unique_ptr<std::array<quint64, kPage>>> m_pages;
};

} // namespace sparsescope
