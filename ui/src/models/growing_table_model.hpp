#pragma once
// A table whose rows are items of the document's model that only ever append (tasks,
// resources): a live trace inserts rows at the end at once, and the values of rows already
// shown, which grow with every batch, are announced with one dataChanged over everything at
// most five times a second.

#include <QAbstractTableModel>
#include <QTimer>

namespace taskscope::ui {

class TraceDocument;

class GrowingTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;

    /// Inserts the rows of new items and announces changed values now rather than at the
    /// next throttle tick.
    void refresh();

protected:
    GrowingTableModel(TraceDocument* document, int columns, QObject* parent);
    /// How many items the document's model holds now (rows may lag behind by a batch).
    [[nodiscard]] virtual int availableRows() const = 0;
    /// Call at the end of the derived constructor.
    void start();
    /// The document let its oldest events go: by default the rows start over (items may
    /// have gone from anywhere among them).
    virtual void onForgotten();
    /// Whether `index` is a row and column that can be shown now.
    [[nodiscard]] bool valid(const QModelIndex& index) const;

    TraceDocument* m_document;
    int m_rows = 0;

private:
    void onReset();
    void onChanged();
    void insertNewRows();

    int m_columns;
    bool m_valuesChanged = false;
    QTimer m_throttle;
};

} // namespace taskscope::ui
