#pragma once
// The Resources tab: one row per channel, lock, semaphore or notify of the document's
// model (schema 4 traces), in the order the model met them. Resources only ever append
// (see GrowingTableModel).

#include "models/growing_table_model.hpp"
#include "taskscope/analysis/model.hpp"

namespace taskscope::ui {

class ResourceTableModel : public GrowingTableModel {
    Q_OBJECT
public:
    enum Column : int {
        KindColumn,
        NameColumn,
        CapacityColumn,
        NowColumn,       ///< depth, or a mutex's holder
        WaitingColumn,   ///< tasks waiting now
        WaitsColumn,     ///< waits in all
        TotalWaitColumn, ///< time spent waiting, all waits together
        LongestWaitColumn,
        LaggedColumn, ///< broadcast receivers that missed messages, and how many
        ColumnCount
    };
    /// Raw values to sort by.
    static constexpr int SortRole = Qt::UserRole;
    /// The resource's id (quint32) on every column.
    static constexpr int IdRole = Qt::UserRole + 1;

    explicit ResourceTableModel(TraceDocument* document, QObject* parent = nullptr);

    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role) const override;

private:
    [[nodiscard]] int availableRows() const override;
    /// Resources are never let go: their rows stay (their values change with the next tick).
    void onForgotten() override {}
};

} // namespace taskscope::ui
