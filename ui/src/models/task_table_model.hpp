#pragma once
// The task table: one row per task kept by the document's model (model::task_rows(): those
// from before a live window's kept start that are still alive in it, then the others in the
// order the model met them). Tasks append between forgets; a forget starts the rows over
// (see GrowingTableModel).

#include "models/growing_table_model.hpp"
#include "taskscope/analysis/model.hpp"

namespace taskscope::ui {

class TaskTableModel : public GrowingTableModel {
    Q_OBJECT
public:
    enum Column : int {
        IdColumn,
        NameColumn,
        StateColumn,
        PollsColumn,
        BusyColumn,
        ScheduledColumn,
        IdleColumn,
        WakesColumn,
        ColumnCount
    };
    /// Raw values to sort by: numbers (ids, counts, nanoseconds, the state's enum value)
    /// and the name as a string.
    static constexpr int SortRole = Qt::UserRole;

    explicit TaskTableModel(TraceDocument* document, QObject* parent = nullptr);

    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role) const override;

    /// The model whose tasks the rows are (row r is model().task_of_row(r)).
    [[nodiscard]] const analysis::model& model() const;

    /// The task shown in `row`, or analysis::no_task.
    [[nodiscard]] analysis::task_ref taskAt(int row) const;
    /// The row showing `task`, or -1.
    [[nodiscard]] int rowOf(analysis::task_ref task) const;

private:
    [[nodiscard]] int availableRows() const override;
};

} // namespace taskscope::ui
