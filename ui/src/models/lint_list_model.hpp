#pragma once
// The findings list: one row per lint of the document's model, in the order the model
// found them, each saying when ("at 1.234 s" since the trace began) and what. Lints only
// ever append, so a live trace inserts rows at the end.

#include "taskscope/analysis/model.hpp"

#include <QAbstractListModel>
#include <QColor>
#include <QIcon>
#include <array>

namespace taskscope::ui {

class TraceDocument;

class LintListModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role : int {
        TimeRole = Qt::UserRole, ///< at_ns (qulonglong, on the trace clock)
        DurationRole,            ///< duration_ns (qulonglong; 0 for busy polling)
        TaskRole,                ///< analysis::task_ref (uint)
        LaneRole,                ///< lane index (uint)
        KindRole,                ///< analysis::lint_kind (int)
    };

    explicit LintListModel(TraceDocument* document, QObject* parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;

private:
    void onReset();
    void onChanged();
    [[nodiscard]] int availableRows() const;

    TraceDocument* m_document;
    int m_rows = 0;
    /// The first row whose text counts polls so far (busy polling), -1 if none: its text
    /// changes as the task keeps polling.
    int m_firstCountingRow = -1;
    std::array<QIcon, analysis::lint_kind_count> m_icons;
};

} // namespace taskscope::ui
